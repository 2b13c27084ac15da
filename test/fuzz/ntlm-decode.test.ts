import { test } from 'node:test';
import { ntlmDecode } from '../../scripts/fuzz/targets/ntlm-decode.js';
import { fuzzCases } from './run.js';

test(`fuzz ntlm-decode (${ntlmDecode.invariant})`, () => fuzzCases(ntlmDecode, 15000));
