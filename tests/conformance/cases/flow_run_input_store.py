# Source: https://docs-2.prefect.io/latest/api-ref/prefect/input/actions/ (the flow run input store: create, read, filter, delete inside a flow run)
# needs-recording
from prefect import flow
from prefect.input import (
    create_flow_run_input,
    delete_flow_run_input,
    filter_flow_run_input,
    read_flow_run_input,
)


@flow
def f():
    create_flow_run_input("greeting-1", {"text": "hi"})
    create_flow_run_input("greeting-2", [1, 2])
    create_flow_run_input("other", "x", sender="me")
    print("read:", read_flow_run_input("greeting-1"), read_flow_run_input("greeting-2"))
    print("missing:", read_flow_run_input("nope"))
    found = filter_flow_run_input("greeting-", limit=5)
    print("filtered:", sorted(i.key for i in found), sorted(str(i.decoded_value) for i in found))
    found = filter_flow_run_input("greeting-", limit=5, exclude_keys={"greeting-2"})
    print("excluded:", [i.key for i in found])
    print("sender:", filter_flow_run_input("other")[0].sender)
    delete_flow_run_input("greeting-1")
    print("after delete:", read_flow_run_input("greeting-1"))
    try:
        create_flow_run_input("other", "again")
    except Exception as exc:
        print("duplicate refused:", "409" in str(exc))


f()
