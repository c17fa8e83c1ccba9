// htm bound to preact's h: templates instead of JSX, no build step.
import { h } from '../vendor/preact.mjs';
import htm from '../vendor/htm.mjs';

export const html = htm.bind(h);
