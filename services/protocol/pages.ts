/**
 * Lists that could outgrow a control frame (the clients online, the catalog) travel in pages:
 * each page's JSON stays within PAGE_BYTES, which leaves room in MAX_CONTROL_PAYLOAD for the
 * message's other fields. A list of any length fits in some number of frames.
 */
import { MAX_CONTROL_PAYLOAD } from './constants.ts';

/** The most bytes a page's items take in the JSON of their message. */
export const PAGE_BYTES = MAX_CONTROL_PAYLOAD - 8 * 1024;

/** Splits `items` into pages whose JSON is at most `maxBytes`; always at least one page (maybe empty). */
export function pagesOf<T>(items: readonly T[], maxBytes = PAGE_BYTES): T[][] {
  const pages: T[][] = [[]];
  let bytes = 2; // the brackets
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item)) + 1; // and its comma
    if (bytes + size > maxBytes && pages[pages.length - 1]!.length > 0) {
      pages.push([]);
      bytes = 2;
    }
    pages[pages.length - 1]!.push(item);
    bytes += size;
  }
  return pages;
}
