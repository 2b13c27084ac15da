import { test } from 'node:test';
import { terminal } from '../../scripts/fuzz/targets/terminal.js';
import { fuzzCases } from './run.js';

test(`fuzz terminal (${terminal.invariant})`, () => fuzzCases(terminal, 15000));
