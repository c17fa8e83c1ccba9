// The catalogue's words for the admin screens (taken into en.js).
export default {
};
