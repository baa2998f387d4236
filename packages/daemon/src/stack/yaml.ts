// The YAML parser behind one module, imported dynamically: only apply and check read OpenAPI
// documents, so the daemon never loads it. (A static import here lets the bundler keep the named
// export of this CommonJS package.)
export { parse as parseYaml } from 'yaml';
