import { test } from 'node:test';
import { telnet } from '../../scripts/fuzz/targets/telnet.js';
import { fuzzCases } from './run.js';

test(`fuzz telnet (${telnet.invariant})`, () => fuzzCases(telnet, 8000));
