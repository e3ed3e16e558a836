#!/usr/bin/env node
// The `cloudloom` command. It runs the TypeScript sources directly through
// tsx, so there is no build step between a checkout and a working CLI.
"use strict";
require("tsx/cjs/api").register();
require("./main.ts")
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
