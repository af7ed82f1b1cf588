/**
 * Registers the rate group of extensions.
 */
import { register } from '../registry.js';

register();
