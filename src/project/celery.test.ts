import { describe, expect, it } from "vitest";
import { projectLayouts } from "../../test/support/project-layout.js";
import { detectApp } from "./app.js";

const layout = projectLayouts("couplet-celery-");

interface Case {
  name: string;
  files: Record<string, string>;
  /** The package's source paths (package mode); undefined: package-mode = false, the whole folder */
  roots?: string[];
  /** `target @source` of each app found */
  apps: string[];
}

const HASHER_APP = `"""Celery application and Redis client."""

import os

import redis
from celery.app import Celery

REDIS_URL = os.getenv("REDIS_URL") or "redis://localhost:6379/0"
celery = Celery(broker=REDIS_URL, backend=REDIS_URL, include=["src.tasks"])
redis_client = redis.Redis.from_url(REDIS_URL)
`;

const cases: Case[] = [
  {
    name: "openrelik-worker-hasher: package-mode = false, code in src/ (a package), `celery.app` import",
    files: {
      "src/__init__.py": "",
      "src/app.py": HASHER_APP,
      "src/tasks.py": "from .app import celery\n\n@celery.task\ndef h(x):\n    return x\n",
      "tests/test_tasks.py": "from celery import Celery\n\napp = Celery('test')\n",
    },
    apps: ["src.app:celery @src/app.py:9"],
  },
  {
    name: "path-tmpl-worker: the package's celery_app module, the call spread over lines",
    roots: ["pathworker"],
    files: {
      "pathworker/__init__.py": "",
      "pathworker/celery_app.py": `from celery import Celery\nfrom pathworker import config\n\nsettings = config.get_settings()\n\napp = Celery(\n    "PathWorker",\n    broker=settings.redis_url,\n    include=["pathworker.tasks"],\n)\n\napp.autodiscover_tasks()\n\nif __name__ == "__main__":\n    app.start()\n`,
      "pathworker/config.py": "def get_settings():\n    return None\n",
    },
    apps: ["pathworker.celery_app:app @pathworker/celery_app.py:6"],
  },
  {
    name: "a src layout: the module is named from inside src/, as the installed package imports it",
    roots: ["src/mailer"],
    files: {
      "src/mailer/__init__.py": "",
      "src/mailer/worker.py": "import celery\n\napp = celery.Celery('mailer')\n",
    },
    apps: ["mailer.worker:app @src/mailer/worker.py:3"],
  },
  {
    name: "Django's layout: proj/celery.py beside the settings",
    files: {
      "manage.py": `import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")\n`,
      "proj/__init__.py": "from .celery import app as celery_app\n\n__all__ = ('celery_app',)\n",
      "proj/celery.py": `import os\n\nfrom celery import Celery\n\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings')\n\napp = Celery('proj')\napp.config_from_object('django.conf:settings', namespace='CELERY')\napp.autodiscover_tasks()\n`,
      "proj/settings.py": `ROOT_URLCONF = "proj.urls"\n`,
    },
    apps: ["proj.celery:app @proj/celery.py:7"],
  },
  {
    name: "aliases: `import celery as c` with an annotation, `from celery import Celery as Broker`",
    files: {
      "a.py": "import celery as c\n\nworker: c.Celery = c.Celery('a')\n",
      "b.py": "from celery import (\n    Celery as Broker,\n    shared_task,\n)\n\nqueue = Broker('b')\n",
    },
    apps: ["a:worker @a.py:3", "b:queue @b.py:6"],
  },
  {
    name: "reassigned in the same module: one app, where it is first made",
    files: {
      "tasks.py": "from celery import Celery\n\napp = Celery('x')\napp = Celery('x', broker='memory://')\n",
    },
    apps: ["tasks:app @tasks.py:3"],
  },
  {
    name: "not an app: made in a function, under an if, in a docstring or a comment",
    files: {
      "factory.py": `from celery import Celery\n\ndef make_celery(flask_app):\n    celery = Celery(flask_app.import_name)\n    return celery\n`,
      "choice.py": `import os\nfrom celery import Celery\n\nif os.environ.get("WORKER"):\n    app = Celery("w")\n`,
      "notes.py": `"""How to start one:\n\napp = Celery("proj")\n"""\nfrom celery import Celery\n# app = Celery("old")\nname = "app = Celery('x')"\n`,
    },
    apps: [],
  },
  {
    name: "not an app: a class of the project's own named Celery, a module name Python cannot import",
    files: {
      "vegetables.py": "class Celery:\n    pass\n\nstalk = Celery()\n",
      "my-worker.py": "from celery import Celery\n\napp = Celery('w')\n",
    },
    apps: [],
  },
  {
    name: "not an app: tests, test files, docs and examples of the docs",
    files: {
      "tests/conftest.py": "from celery import Celery\n\napp = Celery('t')\n",
      "test_worker.py": "from celery import Celery\n\napp = Celery('t')\n",
      "worker_test.py": "from celery import Celery\n\napp = Celery('t')\n",
      "docs/conf_example.py": "from celery import Celery\n\napp = Celery('d')\n",
      "docs/source/tutorial.py": "from celery import Celery\n\napp = Celery('d')\n",
    },
    apps: [],
  },
];

describe("Celery apps in the sources", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const dir = await layout(c.files);
      const facts = await detectApp(dir, c.roots);
      expect(facts.celery.map((a) => `${a.target} @${a.source}`)).toEqual(c.apps);
    });
  }
});
