/**
 * Registers the proto group of extensions.
 */
import { register } from '../registry.js';

register();
