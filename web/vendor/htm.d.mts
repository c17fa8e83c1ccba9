// written by web/scripts/vendor.mjs: the locked package's own types
export { default } from 'htm';
