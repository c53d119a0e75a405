#!/usr/bin/env node
// kubectl-golden: the kubectl plugin (`kubectl golden …`) for versions, channels and the build
// queue. kubectl finds it on PATH by its name; `make install` puts a launcher in .cluster/bin.
import { main } from "../plugin/main.js";

process.exitCode = await main(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
});
