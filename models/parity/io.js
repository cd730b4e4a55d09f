// The file side of the parity runners (reference.js, faceapi.js, tflite.js): weights, inputs, outputs.
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

// Writes input i's outputs ({values, shape} each) as out_dir/<i>_<k>.f32, returns their shapes.
function writeArrays(outDir, i, outs) {
  outs.forEach(({ values }, k) => {
    fs.writeFileSync(path.join(outDir, `${i}_${k}.f32`), Buffer.from(new Float32Array(values).buffer));
  });
  return outs.map(({ shape }) => shape);
}

// writeArrays for TF.js tensors, which it disposes.
async function writeOutputs(outDir, i, tensors) {
  const outs = [];
  for (const t of tensors) {
    outs.push({ values: await t.data(), shape: t.shape });
    t.dispose();
  }
  return writeArrays(outDir, i, outs);
}

module.exports = { readWeights, readFloat32, writeArrays, writeOutputs };
