import { test } from 'node:test';
import { hayes } from '../../scripts/fuzz/targets/hayes.js';
import { fuzzCases } from './run.js';

test(`fuzz hayes (${hayes.invariant})`, () => fuzzCases(hayes, 15000));
