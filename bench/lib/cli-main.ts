// The CLI from source (through tsx), for benches that need `dedl-harvest` as a process of its own.
import { main } from '../../src/client/cli';

main();
