/** Types for `cluster-key-slot` (Redis Cluster's CRC16 key → slot, the one node-redis uses). */
declare module 'cluster-key-slot' {
  /** The hash slot (0–16383) of a key, honouring `{hash tags}`. */
  export default function calculateSlot(key: string | Buffer): number;
}
