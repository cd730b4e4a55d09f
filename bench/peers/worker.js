// The peers' side of bench/peers/run.py: face-api 1.7.15 and Human 3.3.6 on TF.js 4.22's
// WASM backend in plain Node, one persistent process driven by line-delimited JSON on
// stdin/stdout (logs go to stderr).
//   usage: node worker.js HUMAN_MODELS_DIR
//   -> {"ready": true, ...versions, simd, threads}
//   {"op": "load", "key": K, "path": RAW_RGB_FILE, "w": W, "h": H}  -> {"ok": true}
//   {"op": "run", "lib": "faceapi"|"human", "key": K, "multi": bool} -> {"ms": T, "faces": N}
//   {"op": "describe", "lib": "faceapi"|"human", "key": K} -> {"descriptor": [...] or null}
//     (the pipeline's one-face descriptor, for bench/peers/verification.py)
// Timed: tensor from the decoded RGB pixels -> detection, landmarks and descriptors of the
// faces -> results read back to JS. JPEG decoding is not timed (nor is it for facekit).
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const tf = require('@tensorflow/tfjs');
const wasm = require('@tensorflow/tfjs-backend-wasm');
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
// (human's package.json "exports" hides its wasm build: load it by file)
const { Human } = require(path.join(path.dirname(require.resolve('@vladmandic/human')), 'human.node-wasm.js'));

const log = (...a) => console.error('worker:', ...a);
const reply = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

// TF.js without tfjs-node has no file:// loader: Human's models are read from disk here.
tf.io.registerLoadRouter((url) => {
  if (typeof url !== 'string' || !url.startsWith('file://')) return null;
  const file = url.slice('file://'.length);
  return {
    load: async () => tf.io.getModelArtifactsForJSON(JSON.parse(fs.readFileSync(file, 'utf8')), async (manifest) => {
      const specs = manifest.flatMap((g) => g.weights);
      const bufs = manifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(path.dirname(file), p))));
      const all = Buffer.concat(bufs);
      return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)];
    }),
  };
});

const images = {};
let human;

async function init(modelsDir) {
  const wasmDir = `${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`;
  wasm.setWasmPaths(wasmDir);
  await tf.setBackend('wasm');
  await tf.ready();
  const faceapiModels = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(faceapiModels);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(faceapiModels);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(faceapiModels);
  // Human's face defaults (blazeface -> facemesh -> faceres "description"), with the parts a
  // detect + descriptor pipeline does not need switched off (iris, emotion, body, hand,
  // gesture), and its frame-to-frame cache off: the same still image is run again and again.
  human = new Human({
    backend: 'wasm', wasmPath: wasmDir, modelBasePath: `file://${path.resolve(modelsDir)}/`,
    debug: false, warmup: 'none', cacheSensitivity: 0, filter: { enabled: false },
    face: { iris: { enabled: false }, emotion: { enabled: false } },
    body: { enabled: false }, hand: { enabled: false }, gesture: { enabled: false },
    object: { enabled: false }, segmentation: { enabled: false },
  });
  await human.load();
  const loaded = Object.entries(human.models.models).filter(([, m]) => m).map(([k]) => k);
  reply({
    ready: true, node: process.version, tfjs: tf.version_core, faceapi: faceapi.version, human: human.version,
    backend: tf.getBackend(), humanBackend: human.tf.getBackend(), humanModels: loaded,
    simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    multithread: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
    threads: wasm.getThreadsCount(),
  });
}

async function faceapiRun(pixels, h, w, multi) {
  const t = tf.tensor3d(pixels, [h, w, 3], 'int32');
  const opts = new faceapi.SsdMobilenetv1Options();
  const res = multi
    ? await faceapi.detectAllFaces(t, opts).withFaceLandmarks().withFaceDescriptors()
    : await faceapi.detectSingleFace(t, opts).withFaceLandmarks().withFaceDescriptor();
  tf.dispose(t);
  const list = multi ? res : (res ? [res] : []);
  return list.filter((f) => f.descriptor && f.descriptor.length === 128).length;
}

async function humanRun(pixels, h, w, multi) {
  const t = tf.tensor4d(pixels, [1, h, w, 3], 'float32');
  // maxDetected: Human's default is 1; group photos need it raised to find every face.
  const res = await human.detect(t, { face: { detector: { maxDetected: multi ? 32 : 1 } } });
  tf.dispose(t);
  if (res.error) throw new Error(`human: ${res.error}`);
  return res.face.filter((f) => f.embedding && f.embedding.length > 0).length;
}

// The descriptor each peer's one-face pipeline gives (null when it finds no face).
async function describe(lib, pixels, h, w) {
  if (lib === 'faceapi') {
    const t = tf.tensor3d(pixels, [h, w, 3], 'int32');
    const res = await faceapi.detectSingleFace(t, new faceapi.SsdMobilenetv1Options()).withFaceLandmarks().withFaceDescriptor();
    tf.dispose(t);
    return res && res.descriptor ? Array.from(res.descriptor) : null;
  }
  const t = tf.tensor4d(pixels, [1, h, w, 3], 'float32');
  const res = await human.detect(t, { face: { detector: { maxDetected: 1 } } });
  tf.dispose(t);
  if (res.error) throw new Error(`human: ${res.error}`);
  const f = res.face.find((x) => x.embedding && x.embedding.length > 0);
  return f ? Array.from(f.embedding) : null;
}

async function handle(msg) {
  if (msg.op === 'describe') {
    const img = images[msg.key];
    const descriptor = await describe(msg.lib, img.pixels, img.h, img.w);
    delete images[msg.key];
    return { descriptor };
  }
  if (msg.op === 'load') {
    images[msg.key] = { pixels: new Uint8Array(fs.readFileSync(msg.path)), h: msg.h, w: msg.w };
    return { ok: true };
  }
  if (msg.op === 'run') {
    const img = images[msg.key];
    const fn = msg.lib === 'faceapi' ? faceapiRun : humanRun;
    const t0 = process.hrtime.bigint();
    const faces = await fn(img.pixels, img.h, img.w, !!msg.multi);
    return { ms: Number(process.hrtime.bigint() - t0) / 1e6, faces, tensors: tf.memory().numTensors };
  }
  throw new Error(`unknown op ${msg.op}`);
}

async function main() {
  await init(process.argv[2]);
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    try {
      const out = await handle(JSON.parse(line));
      // Collect the run's garbage now, untimed: otherwise the collector works on after the
      // reply, beside whatever the driver times next (it made facekit read 3x slower).
      if (global.gc) global.gc();
      reply(out);
    } catch (e) {
      log(e.stack || e);
      reply({ error: String(e.message || e) });
    }
  }
}

main().catch((e) => { log(e.stack || e); process.exit(1); });
