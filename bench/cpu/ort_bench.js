// Times a model on onnxruntime's CPU execution provider (the onnxruntime-node package, installed
// by run.sh with --ignore-scripts into bench/cpu/.deps). Inputs are .npy files.
//   node ort_bench.js MODEL THREADS WARMUP ITERATIONS name=file.npy [name=file.npy ...]
// Prints one JSON line with per-iteration latency statistics in milliseconds.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, '.deps', 'node_modules', 'onnxruntime-node'));

// Minimal .npy reader: little-endian float32 / int64, C order.
function readNpy(file) {
  const buf = fs.readFileSync(file);
  const headerLength = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + headerLength);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map(s => s.trim()).filter(s => s).map(Number);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(file + ': Fortran order is not supported');
  const data = buf.subarray(10 + headerLength);
  const copy = new ArrayBuffer(data.length);
  new Uint8Array(copy).set(data);
  if (descr === '<f4') return new ort.Tensor('float32', new Float32Array(copy), shape);
  if (descr === '<i8') return new ort.Tensor('int64', new BigInt64Array(copy), shape);
  throw new Error(file + ': dtype ' + descr + ' is not supported');
}

async function main() {
  const [model, threads, warmup, iterations, ...inputArgs] = process.argv.slice(2);
  const feeds = {};
  for (const arg of inputArgs) {
    const eq = arg.indexOf('=');
    feeds[arg.slice(0, eq)] = readNpy(arg.slice(eq + 1));
  }
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: Number(threads),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  for (let i = 0; i < Number(warmup); ++i) await session.run(feeds);
  const times = [];
  for (let i = 0; i < Number(iterations); ++i) {
    const start = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  console.log(JSON.stringify({model, threads: Number(threads), iterations: times.length, mean_ms: mean,
                              median_ms: times[Math.floor(times.length / 2)], min_ms: times[0],
                              version: ort.env.versions ? ort.env.versions.common : 'unknown'}));
}

main().catch(e => { console.error('ort_bench: ' + e.message); process.exit(1); });
