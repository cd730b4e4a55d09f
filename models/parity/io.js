// The file side of the parity runners (reference.js, faceapi.js): weights, inputs, outputs.
'use strict';
const fs = require('fs');
const path = require('path');

// A weights manifest's groups ({weights, paths} each, paths relative to `dir`) as one buffer.
function readWeights(groups, dir) {
  const specs = [];
  const buffers = [];
  for (const group of groups) {
    specs.push(...group.weights);
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
  }
  const all = Buffer.concat(buffers);
  return { specs, data: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) };
}

function readFloat32(file) {
  const raw = fs.readFileSync(file);
  return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}

// Writes input i's output tensors as out_dir/<i>_<k>.f32, disposes them, returns their shapes.
async function writeOutputs(outDir, i, outs) {
  const shapes = [];
  for (let k = 0; k < outs.length; k++) {
    const values = await outs[k].data();
    fs.writeFileSync(path.join(outDir, `${i}_${k}.f32`), Buffer.from(new Float32Array(values).buffer));
    shapes.push(outs[k].shape);
    outs[k].dispose();
  }
  return shapes;
}

module.exports = { readWeights, readFloat32, writeOutputs };
