// nodemailer behind one module, imported dynamically on the first alert mail, not with the daemon.
// (A static import here lets the bundler keep the named export of this CommonJS package.)
export { createTransport } from 'nodemailer';
