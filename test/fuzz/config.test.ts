import { test } from 'node:test';
import { config } from '../../scripts/fuzz/targets/config.js';
import { fuzzCases } from './run.js';

test(`fuzz config (${config.invariant})`, () => fuzzCases(config, 800));
