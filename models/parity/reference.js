// Run a TF.js graph model on raw float32 inputs and write its outputs, for parity tests.
// usage: node reference.js job.json
// job: {model: path/to/model.json, input_node, outputs: [node names], inputs: [{file, shape}], out_dir}
// Writes out_dir/<input index>_<output index>.f32 and out_dir/shapes.json.
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const { readWeights, readFloat32, writeOutputs } = require('./io');

function artifactsFrom(modelPath) {
  const model = JSON.parse(fs.readFileSync(modelPath, 'utf8'));
  const weights = readWeights(model.weightsManifest, path.dirname(modelPath));
  return {
    modelTopology: model.modelTopology,
    weightSpecs: weights.specs,
    weightData: weights.data,
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
    const input = tf.tensor(readFloat32(file), shape, 'float32');
    const feeds = { [job.input_node]: input };
    let outs = model.execute(feeds, job.outputs);
    if (!Array.isArray(outs)) outs = [outs];
    shapes.push(await writeOutputs(job.out_dir, i, outs));
    input.dispose();
  }
  fs.writeFileSync(path.join(job.out_dir, 'shapes.json'), JSON.stringify(shapes));
}

module.exports = { artifactsFrom };

if (require.main === module) main().catch((err) => { console.error(err); process.exit(1); });
