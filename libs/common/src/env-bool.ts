import { z } from 'zod';

/** A boolean variable: true/false or 1/0. */
export const envBool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
