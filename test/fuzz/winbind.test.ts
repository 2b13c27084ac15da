import { test } from 'node:test';
import { winbind } from '../../scripts/fuzz/targets/winbind.js';
import { fuzzCases } from './run.js';

test(`fuzz winbind (${winbind.invariant})`, () => fuzzCases(winbind, 6000));
