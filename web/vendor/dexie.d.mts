// written by web/scripts/vendor.mjs: the locked package's own types
export * from 'dexie';
export { default } from 'dexie';
