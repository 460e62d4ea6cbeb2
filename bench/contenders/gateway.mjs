/** This project, built, in production mode: exactly what `npm start` would run against a real server. */
import './gateway-at.mjs';
