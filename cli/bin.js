#!/usr/bin/env node
// The `cloudloom` command. In a checkout it runs the TypeScript sources next to
// this file (no build step between a checkout and a working CLI); in the
// installed package, which ships no sources, it runs the compiled dist/. Either
// way tsx is registered, so a user's app, handlers and their imports may be
// TypeScript wherever they live.
"use strict";
const { existsSync } = require("node:fs");
const { join } = require("node:path");

require("tsx/cjs/api").register();
const source = join(__dirname, "main.ts");
const entry = existsSync(source) ? source : join(__dirname, "..", "dist", "cli", "main.js");
require(entry)
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
