// Run a TFLite model in Google's TFLite WASM runtime on raw float32 inputs and write its
// outputs, for parity tests of the torch conversion (models/tfjs2torch/tflite.py).
// usage: node tflite.js job.json
// job: {model: path/to/model.tflite, input_node, outputs: [tensor names],
//       inputs: [{file, shape: [1, ...]}], out_dir}
// The model's batch is fixed (2 for MobileFaceNet): inputs go through it that many at a time,
// the last group filled up with copies of its last input. Writes out_dir/<input index>_<output
// index>.f32 (that input's row) and out_dir/shapes.json, as reference.js does.
'use strict';
const fs = require('fs');
const path = require('path');
const { readFloat32, writeArrays } = require('./io');

// The runtime as @tensorflow/tfjs-tflite ships it (plain build: no SIMD, no threads), loaded
// as an Emscripten module; its tfjs-core wrapper (dist/) is not needed for raw arrays.
async function loadRuntime() {
  const wasmDir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-tflite/package.json')), 'wasm');
  const factory = require(path.join(wasmDir, 'tflite_web_api_cc.js'));
  const log = (s) => console.error(`[tflite] ${s}`);
  return factory({ wasmBinary: fs.readFileSync(path.join(wasmDir, 'tflite_web_api_cc.wasm')), print: log, printErr: log });
}

// The steps of TFLiteWebModelRunner.create in wasm/tflite_web_api_client.js.
function createRunner(runtime, modelPath) {
  const bytes = fs.readFileSync(modelPath);
  const ptr = runtime._malloc(bytes.length);
  runtime.HEAPU8.set(bytes, ptr);
  const result = runtime.TFLiteWebModelRunner.CreateFromBufferAndOptions(ptr, bytes.length, {
    numThreads: 1, enableProfiling: false, maxProfilingBufferEntries: 1024,
  });
  if (!result.ok()) throw new Error(`cannot load ${modelPath}: ${result.errorMessage()}`);
  return result.value();
}

function toArray(vector) {
  const items = [];
  for (let i = 0; i < vector.size(); i++) items.push(vector.get(i));
  vector.delete();
  return items;
}

// The runtime gives a tensor's shape as a string: "2,192".
function shapeOf(tensor) {
  return tensor.shape.split(',').map(Number);
}

function byName(tensors, name) {
  const t = tensors.find((x) => x.name === name);
  if (!t) throw new Error(`no tensor ${name} among ${tensors.map((x) => x.name).join(', ')}`);
  if (t.dataType !== 'float32') throw new Error(`tensor ${name} is ${t.dataType}, not float32`);
  return t;
}

async function main() {
  const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const runner = createRunner(await loadRuntime(), job.model);
  const input = byName(toArray(runner.GetInputs()), job.input_node);
  const allOutputs = toArray(runner.GetOutputs());
  const outputs = job.outputs.map((name) => byName(allOutputs, name));
  const batch = shapeOf(input)[0];
  const sampleSize = input.data().length / batch;
  const shapes = [];
  for (let first = 0; first < job.inputs.length; first += batch) {
    const group = job.inputs.slice(first, first + batch);
    for (let row = 0; row < batch; row++) {
      const { file } = group[Math.min(row, group.length - 1)];
      const x = readFloat32(file);
      if (x.length !== sampleSize) throw new Error(`${file}: ${x.length} values, the model takes ${sampleSize} a sample`);
      input.data().set(x, row * sampleSize);  // data(): a view of the WASM heap
    }
    if (!runner.Infer()) throw new Error('TFLite inference failed');
    group.forEach((_, row) => {
      const rows = outputs.map((out) => {
        const size = out.data().length / batch;
        return { values: out.data().slice(row * size, (row + 1) * size), shape: [1, ...shapeOf(out).slice(1)] };
      });
      shapes.push(writeArrays(job.out_dir, first + row, rows));
    });
  }
  fs.writeFileSync(path.join(job.out_dir, 'shapes.json'), JSON.stringify(shapes));
}

if (require.main === module) main().catch((err) => { console.error(err); process.exit(1); });
