// The catalogue's words for the supervisor screens (taken into en.js).
export default {
};
