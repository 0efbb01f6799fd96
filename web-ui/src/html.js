// htm bound to Preact's h: every screen writes its markup as tagged templates, no build step.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
