// The catalogue's words for the referrals screens (taken into en.js).
export default {
};
