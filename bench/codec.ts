/**
 * `npm run bench -- codec [--ms 400] [--runs 5]`: the shared tier's value codec, by measurement. Two
 * values: a ~1 KB menu of plain data (the L2-hit case), and a pg-style row with a `Date`, a `BigInt` and a
 * `Buffer`. Contenders: tiercache's envelope (JSON; typed values tagged, revived only when present),
 * bare JSON (the floor; cannot carry the types), v8.serialize and msgpackr (`moreTypes`). cbor-x was
 * measured once too (see docs/design.md); its optional native packages broke `npm ci`'s lock check. Encode and decode ops/s (medians of interleaved runs) and bytes.
 */

import { parseArgs } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import { Packr } from 'msgpackr';
import { decodeEnvelope, encodeEnvelope } from '../dist/entry.js';

const { values: args } = parseArgs({
  options: { ms: { type: 'string', default: '400' }, runs: { type: 'string', default: '5' } },
});
const MS = Number(args.ms);
const RUNS = Number(args.runs);
const MAX = 1024 * 1024;

const menu = {
  id: 1,
  restaurant: 'Restaurant #1',
  items: Array.from({ length: 12 }, (_, i) => ({ name: `dish number ${i} with a description`, price: 12.5 + i })),
};
const row = { ...menu, id: 7n, updated_at: new Date('2026-12-01T09:45:00Z'), logo: Buffer.from([1, 2, 3, 4]) };
const packr = new Packr({ moreTypes: true });

type Codec = {
  encode: (v: unknown) => string | Uint8Array;
  decode: (b: string | Uint8Array) => unknown;
  types: boolean;
};
const codecs: Record<string, Codec> = {
  tiercache: {
    encode: (v) => encodeEnvelope('k', { value: v, expiresAt: 2e12, createdAt: 1e12, delta: 3 }, MAX),
    decode: (b) => decodeEnvelope(b as string, MAX)?.value,
    types: true,
  },
  'bare JSON': { encode: (v) => JSON.stringify(v), decode: (b) => JSON.parse(b as string), types: false },
  'v8.serialize': { encode: (v) => serialize(v), decode: (b) => deserialize(b as Buffer), types: true },
  msgpackr: { encode: (v) => packr.pack(v), decode: (b) => packr.unpack(b as Buffer), types: true },
};

function rate(run: () => void): number {
  let ops = 0;
  const start = performance.now();
  const end = start + MS;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) run();
    ops += 100;
  }
  return (ops / (performance.now() - start)) * 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
for (const [label, value] of [
  ['~1 KB menu (plain data)', menu],
  ['pg row: Date, BigInt, Buffer', row],
] as const) {
  const results = new Map<string, { enc: number[]; dec: number[]; bytes: number; ok: string }>();
  for (let run = 0; run < RUNS; run++) {
    for (const [name, codec] of Object.entries(codecs)) {
      if (!codec.types && value === row) continue;
      let encoded: string | Uint8Array;
      try {
        encoded = codec.encode(value);
      } catch {
        continue;
      }
      const back = codec.decode(encoded) as { updated_at?: unknown };
      const ok = value === row ? (back.updated_at instanceof Date ? 'yes' : 'NO') : 'yes';
      const entry = results.get(name) ?? { enc: [], dec: [], bytes: Buffer.byteLength(encoded as string), ok };
      entry.enc.push(rate(() => codec.encode(value)));
      entry.dec.push(rate(() => codec.decode(encoded)));
      results.set(name, entry);
    }
  }
  console.log(`\n${label}, medians of ${RUNS} interleaved runs of ${MS} ms\n`);
  console.log('codec          encode/s    decode/s   bytes  types back');
  for (const [name, r] of results) {
    const k = (x: number) => `${(x / 1000).toFixed(0)} k`.padStart(9);
    console.log(`${name.padEnd(13)} ${k(median(r.enc))}  ${k(median(r.dec))}  ${String(r.bytes).padStart(6)}  ${r.ok}`);
  }
}
