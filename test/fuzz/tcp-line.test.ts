import { test } from 'node:test';
import { tcpLineTarget } from '../../scripts/fuzz/targets/tcp-line.js';
import { fuzzCases } from './run.js';

const tcpLine = tcpLineTarget();
test(`fuzz tcp-line (${tcpLine.invariant})`, { timeout: 170_000 }, () => fuzzCases(tcpLine, 10));
