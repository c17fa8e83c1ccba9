// The catalogue's words for the safety screens (taken into en.js).
export default {
};
