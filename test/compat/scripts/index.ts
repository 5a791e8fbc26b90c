import type { Script } from '../script.ts';
import { archives } from './archives.ts';
import { build } from './build.ts';
import { containers } from './containers.ts';
import { filesAndVolumes } from './files-volumes.ts';
import { images } from './images.ts';
import { registry } from './registry.ts';
import { seedForms } from './seed-forms.ts';

/** Every compatibility script, in the order the report lists them. */
export const SCRIPTS: Script[] = [images, archives, containers, build, filesAndVolumes, seedForms, registry];
