// The catalogue's words for the audit screens (taken into en.js).
export default {
};
