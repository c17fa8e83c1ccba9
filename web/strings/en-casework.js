// The catalogue's words for the casework screens (taken into en.js).
export default {
};
