import { render } from 'preact';
import { parseRoute } from './route.ts';
import { App } from './ui/App.tsx';

render(<App route={parseRoute(location)} />, document.getElementById('app')!);
