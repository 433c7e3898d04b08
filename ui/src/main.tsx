// The app shell: navigation, the API-key prompt, and the page for the current path.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { checkKey, onAuthRequired, storedKey, storeKey } from "./api";
import { Link } from "./components";
import { useLocation } from "./router";
import { ConcurrencyPage } from "./pages/concurrency";
import { DeploymentPage, DeploymentsPage } from "./pages/deployments";
import { FlowsPage } from "./pages/flows";
import { RunPage } from "./pages/run";
import { RunsPage } from "./pages/runs";
import { WorkPoolsPage } from "./pages/work-pools";
import "./style.css";

const NAV: [string, string][] = [
  ["/runs", "Flow runs"],
  ["/flows", "Flows"],
  ["/deployments", "Deployments"],
  ["/work-pools", "Work pools"],
  ["/concurrency", "Concurrency"],
];

function KeyPrompt(props: { onDone: () => void }) {
  const [key, setKey] = useState("");
  const [problem, setProblem] = useState<string | null>(
    storedKey() ? "The stored API key was refused." : null);
  return (
    <form class="key-prompt" data-testid="key-prompt" onSubmit={async (e) => {
      e.preventDefault();
      try {
        if (await checkKey(key)) {
          storeKey(key);
          props.onDone();
        } else {
          setProblem("That key was refused.");
        }
      } catch (error) {
        setProblem(String(error));
      }
    }}>
      <h1>API key needed</h1>
      <p>This server requires an API key (its <code>HEADWATER_SERVER_API_KEY</code>). It is
        kept in this browser and sent with each request.</p>
      <input type="password" name="api-key" autocomplete="current-password" value={key}
             onInput={(e) => setKey(e.currentTarget.value)} autofocus />
      <button type="submit">Use key</button>
      {problem && <p class="error" role="alert">{problem}</p>}
    </form>
  );
}

function Page(props: { path: string }) {
  const match = props.path.match(/^\/runs\/([0-9a-fA-F-]{36})$/);
  // Keyed by id: another run's page starts empty, never showing the last run's data.
  if (match) return <RunPage key={match[1]} id={match[1]} />;
  const deployment = props.path.match(/^\/deployments\/([0-9a-fA-F-]{36})$/);
  if (deployment) return <DeploymentPage key={deployment[1]} id={deployment[1]} />;
  if (props.path === "/deployments") return <DeploymentsPage />;
  if (props.path === "/work-pools") return <WorkPoolsPage />;
  if (props.path === "/" || props.path === "/runs") return <RunsPage />;
  if (props.path === "/flows") return <FlowsPage />;
  if (props.path === "/concurrency") return <ConcurrencyPage />;
  return <section><h1>Not found</h1><p>No page at {props.path}.{" "}
    <Link href="/runs">Flow runs</Link></p></section>;
}

function App() {
  const { path } = useLocation();
  const [needKey, setNeedKey] = useState(false);
  const [generation, setGeneration] = useState(0);
  useEffect(() => onAuthRequired(() => setNeedKey(true)), []);
  return (
    <>
      <nav class="top">
        <Link href="/runs" class="brand">headwater</Link>
        {NAV.map(([href, label]) => (
          <Link key={href} href={href}
                class={path === href || (href === "/runs" && path === "/") ? "active" : ""}>
            {label}</Link>))}
        {storedKey() && <button class="link" onClick={() => {
          storeKey(null);
          setNeedKey(true);
        }}>forget key</button>}
      </nav>
      <main key={generation}>
        {needKey ? <KeyPrompt onDone={() => { setNeedKey(false); setGeneration((g) => g + 1); }} />
          : <Page path={path} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
