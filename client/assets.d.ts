/** CSS files are bundled as text (esbuild `loader: { '.css': 'text' }`) and adopted into shadow roots. */
declare module '*.css' {
  const text: string;
  export default text;
}
