// Before the browser tests: build web/dist from the current sources, so the pages under test are the
// ones in the working tree.
import { buildWeb } from '../../build.js';

export default async function setup(): Promise<void> {
  await buildWeb();
}
