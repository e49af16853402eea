/** The audiolab protocol: the public surface used by server, client, analysis and the dissector generator. */
export * from './constants.ts';
export * from './schema.ts';
export * from './codec.ts';
export * from './decoder.ts';
export * from './pages.ts';
export { checkObject } from './validate.ts';
