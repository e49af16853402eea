/** Sequence-number arithmetic modulo 2^32 (RFC 1982 style, as Wireshark's GT_SEQ/LT_SEQ). Never plain `<`. */
export const seqDiff = (a: number, b: number): number => ((a - b) | 0);
export const GT_SEQ = (a: number, b: number): boolean => seqDiff(a, b) > 0;
export const LT_SEQ = (a: number, b: number): boolean => seqDiff(a, b) < 0;
export const LE_SEQ = (a: number, b: number): boolean => seqDiff(a, b) <= 0;
export const EQ_SEQ = (a: number, b: number): boolean => a === b;
export const GE_SEQ = (a: number, b: number): boolean => seqDiff(a, b) >= 0;
