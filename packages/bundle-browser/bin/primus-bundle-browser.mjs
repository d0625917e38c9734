#!/usr/bin/env node
// The command is built from src/cli.ts; this file exists before the first build so that package
// managers can link the bin at install time.
import '../dist/cli.js';
