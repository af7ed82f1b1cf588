/**
 * Registers the targets group of extensions.
 */
import { register } from '../registry.js';

register();
