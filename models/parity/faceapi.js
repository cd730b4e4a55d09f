// Run one of face-api's own weights-only nets (its JS code, its weight loader) on raw RGB
// crops and write the outputs, for parity tests of the torch rebuilds (models/tfjs2torch/faceapi.py).
// usage: node faceapi.js job.json
// job: {package_dir: .../package, net: "FaceRecognitionNet" | "AgeGenderNet" | "SsdMobilenetv1",
//       weights_manifest: path/to/NAME-weights_manifest.json,
//       inputs: [{file, shape: [1, H, W, 3]}] (float32 RGB 0..255, already the net's size), out_dir}
// Writes out_dir/<input index>_<output index>.f32 and out_dir/shapes.json; outputs in the
// order of the catalog: FaceRecognitionNet [descriptor]; AgeGenderNet [age, gender softmax];
// SsdMobilenetv1 [boxes, scores] of its 512 px input, decoded, before threshold and NMS.
'use strict';
const fs = require('fs');
const path = require('path');
const Module = require('module');
const { readWeights, readFloat32, writeOutputs } = require('./io');

// face-api's node bundle requires @tensorflow/tfjs(-backend-wasm): resolve them from here.
process.env.NODE_PATH = [path.join(__dirname, 'node_modules'), process.env.NODE_PATH].filter(Boolean).join(path.delimiter);
Module._initPaths();

function loadFaceApi(packageDir) {
  return require(path.join(packageDir, 'dist', 'face-api.node-wasm.js'));
}

async function loadNet(faceapi, name, manifestPath) {
  const { tf } = faceapi;
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const weights = readWeights(manifest, path.dirname(manifestPath));
  // tf.io.decodeWeights is what face-api's loadWeightMap ends in (tf.io.loadWeights).
  const weightMap = tf.io.decodeWeights(weights.data, weights.specs);
  const net = new faceapi[name]();
  net.loadFromWeightMap(weightMap);
  return net;
}

async function main() {
  const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const faceapi = loadFaceApi(job.package_dir);
  const { tf } = faceapi;
  tf.env().set('IS_NODE', true);
  await tf.setBackend('cpu');
  await tf.ready();
  const net = await loadNet(faceapi, job.net, job.weights_manifest);
  const shapes = [];
  for (let i = 0; i < job.inputs.length; i++) {
    const { file, shape } = job.inputs[i];
    const input = tf.tensor(readFloat32(file), shape, 'float32');
    const netInput = await faceapi.toNetInput(input);
    let outs = net.forwardInput(netInput);
    if (job.net === 'AgeGenderNet') outs = [outs.age, outs.gender];
    else if (job.net === 'SsdMobilenetv1') outs = [outs.boxes[0].expandDims(0), outs.scores[0].expandDims(0)];
    else outs = [outs];
    shapes.push(await writeOutputs(job.out_dir, i, outs));
    input.dispose();
  }
  fs.writeFileSync(path.join(job.out_dir, 'shapes.json'), JSON.stringify(shapes));
}

if (require.main === module) main().catch((err) => { console.error(err); process.exit(1); });
