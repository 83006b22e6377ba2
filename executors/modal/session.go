package modal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	sdk "github.com/modal-labs/modal-client/go"
	pb "github.com/modal-labs/modal-client/go/proto/modal_proto"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/llcflow/llcflow/executors"
)

// mountPath is the mount point of the volume in every sandbox.
const mountPath = "/runs"

// ErrMissingCredentials is returned (wrapped) when neither MODAL_TOKEN_ID
// and MODAL_TOKEN_SECRET nor ~/.modal.toml hold a Modal token.
var ErrMissingCredentials = errors.New("modal credentials are missing")

// credentialsHelp is the setup hint of every credentials error. It contains
// no credential value.
const credentialsHelp = "run `modal token new` (it writes ~/.modal.toml), " +
	"or set MODAL_TOKEN_ID and MODAL_TOKEN_SECRET to a token from https://modal.com/settings/tokens"

// session is one connection to Modal: the SDK client and the app, volume
// and image that every sandbox uses.
type session struct {
	client *sdk.Client
	app    *sdk.App
	volume *sdk.Volume
	image  *sdk.Image
}

// connect creates the SDK client, which reads the credentials from the
// environment and ~/.modal.toml, and looks up (creating when missing) the
// app and the volume, and builds the image.
func connect(ctx context.Context, opts Options, deps clientDeps) (*session, error) {
	client, err := sdk.NewClientWithOptions(&sdk.ClientParams{
		Environment:           opts.Environment,
		Logger:                deps.logger,
		GRPCUnaryInterceptors: []grpc.UnaryClientInterceptor{deps.results.intercept},
	})
	if err != nil {
		return nil, classifySDKError("create the Modal client", err)
	}
	s := &session{client: client}
	s.app, err = client.Apps.FromName(ctx, opts.App, &sdk.AppFromNameParams{
		Environment: opts.Environment, CreateIfMissing: true,
	})
	if err != nil {
		client.Close()
		return nil, classifySDKError(fmt.Sprintf("look up Modal app %q", opts.App), err)
	}
	s.volume, err = client.Volumes.FromName(ctx, opts.Volume, &sdk.VolumeFromNameParams{
		Environment: opts.Environment, CreateIfMissing: true,
	})
	if err != nil {
		client.Close()
		return nil, classifySDKError(fmt.Sprintf("look up Modal volume %q", opts.Volume), err)
	}
	s.image, err = client.Images.FromRegistry(opts.Image, nil).Build(ctx, s.app, nil)
	if err != nil {
		client.Close()
		return nil, classifySDKError(fmt.Sprintf("build Modal image %q", opts.Image), err)
	}
	return s, nil
}

// clientDeps are the logger and result recorder that the SDK client
// borrows from the executor.
type clientDeps struct {
	logger  *slog.Logger
	results *resultRecorder
}

// classifySDKError wraps an error from the SDK with the operation. Missing
// or rejected credentials and invalid requests are permanent; everything
// else (an unreachable server, a lack of capacity) is an InfraError.
func classifySDKError(op string, err error) error {
	if strings.Contains(err.Error(), "missing credentials") {
		return fmt.Errorf("%s: %w; %s", op, ErrMissingCredentials, credentialsHelp)
	}
	switch status.Code(err) {
	case codes.Unauthenticated, codes.PermissionDenied:
		return fmt.Errorf("%s: Modal rejected the credentials (%s); %s", op, status.Convert(err).Message(), credentialsHelp)
	case codes.InvalidArgument, codes.NotFound, codes.FailedPrecondition, codes.AlreadyExists:
		return fmt.Errorf("%s: %w", op, err)
	}
	var invalid sdk.InvalidError
	var notFound sdk.NotFoundError
	var remote sdk.RemoteError
	if errors.As(err, &invalid) || errors.As(err, &notFound) || errors.As(err, &remote) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return &executors.InfraError{Err: fmt.Errorf("%s: %w", op, err)}
}

// resultRecorder keeps the final result of each sandbox as the control
// plane reports it to Sandbox.Wait. Wait itself returns only an exit code,
// which cannot tell a sandbox that was lost from one that exited 0.
//
// NOTE: this reads the SDK's gRPC messages, which Modal does not promise to
// keep stable. With an SDK whose messages differ, results stay unknown, so
// the exit code alone classifies a failure.
type resultRecorder struct {
	mu      sync.Mutex
	results map[string]*pb.GenericResult
}

func newResultRecorder() *resultRecorder {
	return &resultRecorder{results: map[string]*pb.GenericResult{}}
}

func (r *resultRecorder) intercept(ctx context.Context, method string, req, reply any,
	cc *grpc.ClientConn, invoke grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoke(ctx, method, req, reply, cc, opts...)
	if err != nil {
		return err
	}
	resp, ok := reply.(*pb.SandboxWaitResponse)
	if !ok || resp.GetResult() == nil {
		return nil
	}
	if wait, ok := req.(*pb.SandboxWaitRequest); ok {
		r.mu.Lock()
		r.results[wait.GetSandboxId()] = resp.GetResult()
		r.mu.Unlock()
	}
	return nil
}

// take returns the recorded result of a sandbox, or nil, and deletes it.
func (r *resultRecorder) take(sandboxID string) *pb.GenericResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := r.results[sandboxID]
	delete(r.results, sandboxID)
	return res
}
