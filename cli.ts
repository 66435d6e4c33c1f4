#!/usr/bin/env node
// Single entry point: `turnrelay relay|operator|credentials ...`.
const [command] = process.argv.slice(2);
console.error(`turnrelay: command ${command ?? '(none)'} not implemented yet`);
process.exit(2);
