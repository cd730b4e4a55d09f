// Run a TF.js graph model on raw float32 inputs and write its outputs, for parity tests.
// usage: node reference.js job.json
// job: {model: path/to/model.json, input_node, outputs: [node names], inputs: [{file, shape}], out_dir}
// Writes out_dir/<input index>_<output index>.f32 and out_dir/shapes.json.
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

function artifactsFrom(modelPath) {
  const model = JSON.parse(fs.readFileSync(modelPath, 'utf8'));
  const dir = path.dirname(modelPath);
  const specs = [];
  const buffers = [];
  for (const group of model.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
  }
  const all = Buffer.concat(buffers);
  return {
    modelTopology: model.modelTopology,
    weightSpecs: specs,
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
    format: model.format,
    generatedBy: model.generatedBy,
    convertedBy: model.convertedBy,
    signature: model.signature,
    userDefinedMetadata: model.userDefinedMetadata,
  };
}

async function main() {
  tf.env().set('IS_NODE', true); await tf.setBackend('cpu');
  const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const model = await tf.loadGraphModel(tf.io.fromMemory(artifactsFrom(job.model)));
  const shapes = [];
  for (let i = 0; i < job.inputs.length; i++) {
    const { file, shape } = job.inputs[i];
    const raw = fs.readFileSync(file);
    const data = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    const input = tf.tensor(data, shape, 'float32');
    const feeds = { [job.input_node]: input };
    let outs = model.execute(feeds, job.outputs);
    if (!Array.isArray(outs)) outs = [outs];
    const these = [];
    for (let k = 0; k < outs.length; k++) {
      const values = await outs[k].data();
      fs.writeFileSync(path.join(job.out_dir, `${i}_${k}.f32`), Buffer.from(new Float32Array(values).buffer));
      these.push(outs[k].shape);
      outs[k].dispose();
    }
    input.dispose();
    shapes.push(these);
  }
  fs.writeFileSync(path.join(job.out_dir, 'shapes.json'), JSON.stringify(shapes));
}

module.exports = { artifactsFrom };

if (require.main === module) main().catch((err) => { console.error(err); process.exit(1); });
