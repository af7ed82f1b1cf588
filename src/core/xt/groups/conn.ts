/**
 * Registers the conn group of extensions.
 */
import { register } from '../registry.js';

register();
