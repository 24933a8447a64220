"""``kb run``: execute a jupytext runbook with papermill and keep a secret-safe record.

The flow, one module per step (see ``execute.run_runbook``)::

    source.load_runbook        find runbooks/<id>.py, read it with jupytext
    params.parse_parameters    the `parameters` cell -> ParamSpec list (literal assignments, or the
                               `params_schema` dataclass it names, e.g. an install component's Params)
    validate.resolve_parameters  profile < params file < -p, checked; secrets resolved for masking
    records.RecordDir          runs/<id>/<UTC timestamp>/ (0700), latest symlink
    engine / kernel            papermill + nbclient over an IPC-transport kernel
    records.write_record       masked output.ipynb + summary.json (0600), also after every cell
    publish.publish_record     `kb runs publish`: scrubbed copy under records/<id>/ for the site
"""
