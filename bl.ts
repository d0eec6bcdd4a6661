import { benchLocality } from './bench/pipeline/locality.js';
console.log(JSON.stringify(await benchLocality('/work/main/.cache/bench', 2, 2)));
