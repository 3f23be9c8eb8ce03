#!/usr/bin/env node
// Starts kib: runs the bundled CLI (kib-main.cjs beside this file) with the V8 code cache
// recorded at build time, so that start-up skips compiling it. A cache from another V8 is
// rejected by V8 itself and the bundle is compiled as usual.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const file = path.join(__dirname, 'kib-main.cjs');
const cacheFile = `${file}.cache`;
let cachedData;
try {
  cachedData = fs.readFileSync(cacheFile);
} catch {
  // no cache: compile as usual
}
const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), {
  filename: file,
  cachedData,
  importModuleDynamically: vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
const main = new Module(file, module);
main.filename = file;
main.paths = Module._nodeModulePaths(__dirname);
if (process.env.KIB_WRITE_CODE_CACHE === '1') {
  process.on('exit', () => fs.writeFileSync(cacheFile, script.createCachedData()));
}
script.runInThisContext().call(main.exports, main.exports, Module.createRequire(file), main, file, __dirname);
